"""A rebuild's own writer: the same segment files as whoosh's writer, term bitmaps that agree with
the postings, and the same index from several processes as from one."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from whoosh import columns, fields, formats
from whoosh import index as wix
from whoosh.fields import UnknownFieldError

from harmony.accounts.services import COMMAND_LINE
from harmony.catalog.content import DatasetContent
from harmony.search import analysis, bits, bulk, segment_files, store, sync, view
from harmony.search.index import search_index
from harmony.search.schema import Source, document
from tests import factories
from tests.search.test_index_sync import expected, indexed, seeded  # noqa: F401 - a fixture

WORDS = ("leukaemia remission induction relapse transplant marrow cytogenetics survival dose cohort "
         "trial patients lymphoma myeloma rituximab azacitidine venetoclax response minimal residual").split()


def corpus(count: int) -> list[Source]:
    """Sources with words at every frequency: some in every document, some repeated within one,
    enough to fill several posting blocks and to get term bitmaps."""
    rnd = random.Random(5)
    made = []
    for n in range(1, count + 1):
        words = [rnd.choice(WORDS[: rnd.randrange(2, len(WORDS))]) for _ in range(rnd.randrange(5, 60))]
        content = factories.content(
            title=f"Study {n} of {' '.join(words[:4])}", description=" ".join(words) + f" code{n % 97}",
            n_patients=rnd.randrange(10, 5000), countries=rnd.sample(["NL", "BE", "DE", "FR"], rnd.randrange(1, 4)),
            keywords=words[:3], diseases=rnd.choice([["DOID:9119"], ["DOID:9952"], ["DOID:0060060"], []]))
        made.append(Source(dataset_id=n, pid=f"HM-{n:05d}", group_id=1 + n % 3, group_acronym="HOVON",
                           group_name="HOVON", content=DatasetContent.model_validate(content).stored(),
                           issued_at=datetime(2020, 1, 1 + n % 28, tzinfo=UTC)))
    return made


def files_of_segment(generation: Path) -> dict[str, bytes]:
    """The segment's files by extension (the segment id left out), without the term bitmaps."""
    (segment,) = store.open_index(generation)._segments()
    prefix = segment.segment_id()
    return {path.name[len(prefix):]: path.read_bytes() for path in generation.iterdir()
            if path.name.startswith(prefix) and not path.name.endswith(bulk.TermBitmaps.EXTENSION)}


@pytest.mark.parametrize("shape", ["as built", "gaps and column offsets"])
def test_the_bulk_writer_writes_the_files_whoosh_writes(tmp_path, monkeypatch, shape):
    documents = [document(source) for source in corpus(1500)]
    if shape == "gaps and column offsets":
        # documents without some values (among them the last ones), numbers equal to a column's
        # default, and columns long enough for whoosh to write their offsets
        for number, fields in enumerate(documents):
            if number % 7 == 0 or number >= 1495:
                fields.update(year=None, population=None, sequence=None, patients=None, body=None)
            if number >= 1490:
                fields.update(age_hi=0)  # the column's default, at the end: whoosh writes none of them
            if number % 5 == 0:
                fields.update(age_lo=0, dataset_id=0)
        monkeypatch.setattr(columns.VarBytesColumn, "writer",
                            lambda column, dbfile: columns.VarBytesColumn.Writer(dbfile, True, 1000))
    written = {}
    for kind in ("whoosh", "bulk"):
        generation = store.new_generation(tmp_path / kind)
        index = store.open_index(generation)
        writer = (index.writer(**store.WRITER_OPTIONS) if kind == "whoosh"
                  else bulk.BulkWriter(index, **store.WRITER_OPTIONS))
        for fields in documents:
            writer.add_document(**fields)
        writer.commit(merge=False)
        written[kind] = files_of_segment(generation)
    assert ".pst" in written["bulk"] and ".trm" in written["bulk"]
    assert written["bulk"].keys() == written["whoosh"].keys()
    for extension, data in written["whoosh"].items():
        assert written["bulk"][extension] == data, f"the segment's {extension} file differs"


def other_schema(boost: float) -> fields.Schema:
    """Fields Harmony's schema does not have, for the writer's general paths."""
    counted = fields.TEXT(analyzer=analysis.EnglishTokenizer(), phrase=False)
    counted.format = analysis.CountedFrequency(field_boost=boost)
    facet = fields.KEYWORD(analyzer=analysis.SpaceTokenizer())
    facet.format = formats.Existence(field_boost=1.0)
    empty = fields.KEYWORD(analyzer=analysis.SpaceTokenizer())
    empty.format = formats.Existence(field_boost=1.0)
    return fields.Schema(key=fields.ID(stored=True), number=fields.NUMERIC(int), day=fields.DATETIME(),
                         words=fields.TEXT(field_boost=1.7, phrase=False), counted=counted, facet=facet,
                         empty=empty, amount=fields.COLUMN(columns.NumericColumn("I", default=0)))


@pytest.mark.parametrize("boost", [0.3, 0.0])
def test_the_bulk_writer_writes_what_whoosh_writes_for_other_fields(tmp_path, monkeypatch, boost):
    monkeypatch.setattr(segment_files, "FLUSH_TERMS", 100)  # posting bytes written in several parts
    # (fields not in name order: whoosh meets a document's fields sorted)
    documents = [{"key": f"k{n}", "number": n * 7, "day": datetime(2020, 1, 1 + n % 28),
                  "words": "Stem cell transplant in relapsed AML, stem cells " * (1 + n % 3),
                  # none in the first document: whoosh meets "words" first
                  "counted": analysis.TermCounts.of(["marrow"] * (1 + n % 5) * bool(n) + ["relapse"] * (n % 2)),
                  "facet": ["a\tb", "a\n", "c d", "é", "𝕏", ""][n % 6], "empty": "", "amount": n % 4}
                 for n in range(1100)]  # several posting blocks per frequent term
    written = {}
    for kind in ("whoosh", "bulk"):
        folder = tmp_path / kind
        folder.mkdir()
        index = wix.create_in(str(folder), other_schema(boost))
        writer = (index.writer(**store.WRITER_OPTIONS) if kind == "whoosh"
                  else bulk.BulkWriter(index, **store.WRITER_OPTIONS))
        for fields_ in documents:
            writer.add_document(**fields_)
        writer.commit(merge=False)
        (segment,) = index._segments()
        prefix = segment.segment_id()
        written[kind] = ({path.name[len(prefix):]: path.read_bytes() for path in folder.iterdir()
                          if path.name.startswith(prefix) and not path.name.endswith(bulk.TermBitmaps.EXTENSION)},
                         list(segment._fieldlengths.items()))
    assert written["bulk"][0].keys() == written["whoosh"][0].keys()
    for extension, data in written["whoosh"][0].items():
        assert written["bulk"][0][extension] == data, f"the segment's {extension} file differs"
    assert written["bulk"][1] == written["whoosh"][1]  # the field lengths, in whoosh's order


def test_term_bitmaps_agree_with_the_postings(tmp_path):
    generation = store.new_generation(tmp_path)
    index = store.open_index(generation)
    assert bulk.build(index, corpus(1500)) == 1500
    reader = index.reader()
    segment = view.Segment(reader)
    assert len(segment._bitmap_table) > 10  # the frequent words of each text field
    repeated = 0
    for field, term in segment._bitmap_table:
        from_bitmap = segment.term(reader, field, term)
        from_postings = view._postings(reader, field, term.encode(), segment.size)
        assert from_bitmap == from_postings, (field, term)
        repeated += 0 < from_bitmap[1] != from_bitmap[0]
    assert repeated  # some terms appear twice in some documents only
    reader.close()


def test_a_rebuild_in_several_processes_indexes_the_same(app, seeded, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setattr(bulk, "BATCH", 2)  # three batches for two workers
    with app.app_context():
        factories.dataset(COMMAND_LINE, factories.group("GIMEMA"), publish=False)  # a draft is left out
        assert search_index().rebuild(procs=2) == len(seeded)
        view_ = search_index().view()
        assert len(view_.leaves) == 2  # a segment per worker
        found = sorted(view_.dataset_ids[doc] for doc in bits.ids(view_.live))
    assert found == sorted(seeded)
    assert indexed(app) == expected(app)
    with app.app_context():
        one = search_index().view()
        total = app.test_client().get("/api/v1/datasets", query_string={"q": "lenalidomide AML"}).get_json()["total"]
        search_index().rebuild(procs=1)
        assert len(search_index().view().leaves) == 1 and one is not search_index().view()
        again = app.test_client().get("/api/v1/datasets", query_string={"q": "lenalidomide AML"}).get_json()["total"]
    assert total == again == len(seeded)


def test_a_failing_worker_fails_the_rebuild_and_leaves_the_live_index(app, seeded, monkeypatch):  # noqa: F811
    with app.app_context():
        root = Path(app.config["SEARCH_INDEX_DIR"])
        search_index().view()
        live = store.current_name(root)

        # the workers cannot open the database (whichever way they were started)
        monkeypatch.setattr(sync, "_shared_url", lambda _connection: f"sqlite:///{root / 'missing' / 'none.db'}")
        try:
            search_index().rebuild(procs=2)
        except bulk.BuildFailed as error:
            assert "unable to open database file" in str(error)
        else:
            raise AssertionError("the rebuild did not fail")
        assert store.current_name(root) == live
        assert [p.name for p in root.iterdir() if p.name.startswith("g-")] == [live]  # the failed one removed
    monkeypatch.undo()
    assert indexed(app) == expected(app)


def test_the_parallel_build_reads_the_database_in_its_workers(app, seeded):  # noqa: F811
    with app.app_context(), search_index()._connect() as connection:
        assert sync._shared_url(connection) is not None
        assert sync.published_ids(connection) == sorted(seeded)


def test_a_document_that_fails_part_way_leaves_the_writer_to_be_cancelled(tmp_path):
    writer = bulk.BulkWriter(store.open_index(store.new_generation(tmp_path)), **store.WRITER_OPTIONS)
    fields = document(corpus(1)[0])
    with pytest.raises(UnknownFieldError):
        writer.add_document(**fields, colour="blue")
    writer.add_document(**fields)  # a refusal before anything was added leaves the writer usable
    with pytest.raises(TypeError):
        writer.add_document(**{**fields, "group": 7})  # the facets before it are added, then it fails
    with pytest.raises(RuntimeError, match="cancel it"):
        writer.add_document(**fields)
    writer.cancel()
