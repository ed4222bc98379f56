// Test-only OpenID Connect provider for Harmony's protocol tests.
//
// Runs the certified `oidc-provider` package on plain http on the loopback interface, with one
// confidential client, PKCE (S256) required for every authorization request, a minimal
// HTML login/consent interaction that works without JavaScript, RP-initiated logout, and test
// hooks under /__test/ that can corrupt one claim of the next ID token (re-signed with the
// provider's own key). NEVER use this outside tests: any login name is accepted.
//
// Usage:
//   node server.mjs [PORT] [--config JSON | --config-file PATH]
//   PORT may also come from OIDC_PORT, the configuration from OIDC_CONFIG (JSON).
//   OIDC_PARENT_PID (optional): exit when that process is gone.
//   PORT 0 (the default) lets the OS pick a free port; the issuer is http://127.0.0.1:<port>.
//
// Configuration (JSON object):
//   client_id, client_secret            required
//   redirect_uris                       required, list of absolute URLs
//   post_logout_redirect_uris           optional list (default [])
//   token_endpoint_auth_method          "client_secret_basic" (default) or "client_secret_post"
//   conform_id_token_claims             default false: profile/email claims are put in the ID
//                                       token too (not only at userinfo), as most IdPs do
//   accounts                            optional {"<sub>": {"name": ..., "email": ...}} overrides
//
// Once listening it prints one line to stdout:
//   {"event":"ready","issuer":"http://127.0.0.1:<port>","port":<port>}
//
// Routes besides the provider's own (discovery at /.well-known/openid-configuration):
//   GET  /interaction/:uid          login page (prompt "login") or consent page (prompt "consent")
//   POST /interaction/:uid/login    form fields: login=<subject> (required), password (ignored)
//   POST /interaction/:uid/confirm  form field: decision=allow | decision=deny
//   POST /interaction/:uid/abort    (also GET) cancel: back to the client with error=access_denied
//   GET  /__test/health             {"status":"ok","issuer":...}
//   GET  /__test/mode               {"mode":...}
//   POST /__test/mode               JSON {"mode": "normal"|"wrong-aud"|"wrong-iss"|"wrong-nonce"|"expired",
//                                         "value": optional replacement value for aud/iss/nonce}
//        The mode applies to the NEXT successful token endpoint response carrying an id_token,
//        then falls back to "normal".

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const MODES = new Set(['normal', 'wrong-aud', 'wrong-iss', 'wrong-nonce', 'expired']);

function fail(message) {
  process.stderr.write(`oidc test server: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let port = process.env.OIDC_PORT;
  let configText = process.env.OIDC_CONFIG;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--config') {
      configText = argv[++i];
    } else if (arg === '--config-file') {
      configText = fs.readFileSync(argv[++i], 'utf8');
    } else if (arg === '--port') {
      port = argv[++i];
    } else if (/^\d+$/.test(arg)) {
      port = arg;
    } else {
      fail(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!configText) fail('no configuration: pass --config JSON, --config-file PATH or OIDC_CONFIG');
  let config;
  try {
    config = JSON.parse(configText);
  } catch (err) {
    fail(`configuration is not JSON: ${err.message}`);
  }
  for (const key of ['client_id', 'client_secret']) {
    if (typeof config[key] !== 'string' || !config[key]) fail(`configuration needs a string ${key}`);
  }
  if (!Array.isArray(config.redirect_uris) || !config.redirect_uris.length) {
    fail('configuration needs a non-empty redirect_uris list');
  }
  const portNumber = Number(port ?? 0);
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) fail(`bad port ${port}`);
  return { port: portNumber, config };
}

const htmlEscape = (value) => String(value ?? '')
  .replaceAll('&', '&amp;')
  .replaceAll('<', '&lt;')
  .replaceAll('>', '&gt;')
  .replaceAll('"', '&quot;')
  .replaceAll("'", '&#39;');

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${htmlEscape(title)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>body{font-family:sans-serif;max-width:30em;margin:2em auto}label,input,button{display:block;margin:.5em 0}</style>
</head>
<body>
  <h1>${htmlEscape(title)}</h1>
  ${body}
</body>
</html>`;
}

// "alice" -> "Alice Example", "bob.smith" -> "Bob Smith Example".
function displayName(sub) {
  const words = sub.split(/[\s._@-]+/).filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1));
  return [...words, 'Example'].join(' ');
}

async function readBody(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main() {
  const { port: requestedPort, config } = parseArgs(process.argv.slice(2));

  // Listen first (port 0 = a free port chosen by the OS, no race), then build the provider
  // whose issuer needs the real port.
  let handler = (req, res) => { res.statusCode = 503; res.end('starting'); };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  // The signing key: RS256, made fresh at every start.
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingJwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `test-${crypto.randomBytes(6).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };
  const signingKey = await jose.importJWK(signingJwk, 'RS256');

  const accounts = config.accounts ?? {};
  const clientAuthMethod = config.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!['client_secret_basic', 'client_secret_post'].includes(clientAuthMethod)) {
    fail(`unsupported token_endpoint_auth_method ${clientAuthMethod}`);
  }

  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris ?? [],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: clientAuthMethod,
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [signingJwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    responseTypes: ['code'],
    scopes: ['openid', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: config.conform_id_token_claims ?? false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          // `form` is `<form id="op.logoutForm" method="post" action="..."><input type="hidden"
          // name="xsrf" .../></form>`; the buttons go inside it so a plain form post works.
          const inner = form.replace('</form>', `
    <button type="submit" id="logout-yes" name="logout" value="yes">Yes, sign me out</button>
    <button type="submit" id="logout-no">No, stay signed in</button>
  </form>`);
          ctx.type = 'html';
          ctx.body = page('Sign out', `<p>Do you want to sign out from ${htmlEscape(ctx.host)}?</p>\n  ${inner}`);
        },
        postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<p id="signed-out">You have been signed out.</p>');
        },
      },
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async findAccount(ctx, sub) {
      const extra = accounts[sub] ?? {};
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            name: extra.name ?? displayName(sub),
            email: extra.email ?? `${sub}@example.org`,
            email_verified: extra.email_verified ?? true,
          };
        },
      };
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', Object.entries(out)
        .map(([key, value]) => `<p><strong>${htmlEscape(key)}</strong>: <span id="${htmlEscape(key)}">${htmlEscape(value)}</span></p>`)
        .join('\n  '));
    },
  });

  // --- test hooks: corrupt the next ID token ---------------------------------------------
  let pending = { mode: 'normal' };

  async function corruptIdToken(idToken, { mode, value }) {
    const header = jose.decodeProtectedHeader(idToken);
    const claims = jose.decodeJwt(idToken);
    const now = Math.floor(Date.now() / 1000);
    switch (mode) {
      case 'wrong-aud':
        claims.aud = value ?? 'some-other-client';
        delete claims.azp;
        break;
      case 'wrong-iss':
        claims.iss = value ?? 'http://127.0.0.1:1/wrong-issuer';
        break;
      case 'wrong-nonce':
        claims.nonce = value ?? `wrong-${crypto.randomBytes(8).toString('hex')}`;
        break;
      case 'expired':
        claims.iat = now - 2 * 3600;
        claims.exp = now - 3600;
        if (claims.auth_time !== undefined) claims.auth_time = Math.min(claims.auth_time, claims.iat);
        break;
      default:
        return idToken;
    }
    return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader(header)
      .sign(signingKey);
  }

  const json = (ctx, status, body) => { ctx.status = status; ctx.type = 'json'; ctx.body = body; };

  provider.use(async (ctx, next) => {
    if (ctx.path === '/__test/health' && ctx.method === 'GET') {
      return json(ctx, 200, { status: 'ok', issuer });
    }
    if (ctx.path === '/__test/mode') {
      if (ctx.method === 'GET') return json(ctx, 200, pending);
      if (ctx.method !== 'POST') return json(ctx, 405, { error: 'method not allowed' });
      let body;
      try {
        body = JSON.parse(await readBody(ctx.req));
      } catch {
        return json(ctx, 400, { error: 'body must be JSON {"mode": ...}' });
      }
      if (!MODES.has(body?.mode)) {
        return json(ctx, 400, { error: `mode must be one of ${[...MODES].join(', ')}` });
      }
      pending = body.value === undefined ? { mode: body.mode } : { mode: body.mode, value: String(body.value) };
      return json(ctx, 200, pending);
    }

    await next();

    if (ctx.path === '/token' && ctx.status === 200 && pending.mode !== 'normal'
      && ctx.body && typeof ctx.body === 'object' && typeof ctx.body.id_token === 'string') {
      const applied = pending;
      pending = { mode: 'normal' };
      ctx.body = { ...ctx.body, id_token: await corruptIdToken(ctx.body.id_token, applied) };
    }
    return undefined;
  });

  // --- login and consent, plain HTML forms ---------------------------------------------------
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('Cache-Control', 'no-store');

    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Error', `<p><strong>error</strong>: <span id="error">${htmlEscape(err.name)}</span></p><p id="error_description">${htmlEscape(err.message)}</p>`);
      return undefined;
    }
    if (details.uid !== uid) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Error', '<p id="error">interaction mismatch</p>');
      return undefined;
    }
    const { prompt, params, session, grantId } = details;

    const finish = async (result, mergeWithLastSubmission) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };

    if (action === 'abort') {
      return finish({ error: 'access_denied', error_description: 'End-User aborted interaction' }, false);
    }

    if (!action) {
      if (ctx.method !== 'GET') return json(ctx, 405, { error: 'method not allowed' });
      ctx.type = 'html';
      if (prompt.name === 'login') {
        ctx.body = page('Sign in', `
  <p>Client: <span id="client-id">${htmlEscape(params.client_id)}</span></p>
  <form id="login-form" method="post" action="/interaction/${htmlEscape(uid)}/login">
    <label for="login">Login name</label>
    <input id="login" name="login" type="text" required autofocus value="${htmlEscape(params.login_hint ?? '')}">
    <label for="password">Password (any)</label>
    <input id="password" name="password" type="password">
    <button id="login-submit" type="submit">Sign in</button>
  </form>
  <form id="abort-form" method="post" action="/interaction/${htmlEscape(uid)}/abort">
    <button id="login-cancel" type="submit">Cancel</button>
  </form>`);
      } else if (prompt.name === 'consent') {
        const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
        ctx.body = page('Authorize', `
  <p><span id="client-id">${htmlEscape(params.client_id)}</span> asks to access your account
     <span id="account">${htmlEscape(session?.accountId)}</span> with scopes:</p>
  <ul id="scopes">${scopes.map((s) => `<li>${htmlEscape(s)}</li>`).join('')}</ul>
  <form id="consent-form" method="post" action="/interaction/${htmlEscape(uid)}/confirm">
    <button id="consent-allow" type="submit" name="decision" value="allow">Allow</button>
    <button id="consent-deny" type="submit" name="decision" value="deny">Deny</button>
  </form>`);
      } else {
        ctx.status = 501;
        ctx.body = page('Error', `<p id="error">prompt ${htmlEscape(prompt.name)} not implemented</p>`);
      }
      return undefined;
    }

    if (ctx.method !== 'POST') return json(ctx, 405, { error: 'method not allowed' });
    const form = new URLSearchParams(await readBody(ctx.req));

    if (action === 'login') {
      if (prompt.name !== 'login') return json(ctx, 400, { error: `expected prompt ${prompt.name}` });
      const login = (form.get('login') ?? '').trim();
      if (!login) {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = page('Sign in', `<p id="error">A login name is required.</p><p><a href="/interaction/${htmlEscape(uid)}">Back</a></p>`);
        return undefined;
      }
      return finish({ login: { accountId: login } }, false);
    }

    // action === 'confirm'
    if (prompt.name !== 'consent') return json(ctx, 400, { error: `expected prompt ${prompt.name}` });
    const decision = form.get('decision');
    if (decision === 'deny') {
      return finish({ error: 'access_denied', error_description: 'End-User denied consent' }, false);
    }
    if (decision !== 'allow') return json(ctx, 400, { error: 'decision must be allow or deny' });

    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { details: missing } = prompt;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scope] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
    }
    return finish({ consent: { grantId: await grant.save() } }, true);
  });

  provider.on('server_error', (ctx, err) => {
    process.stderr.write(`oidc test server: server_error ${err?.stack ?? err}\n`);
  });

  handler = provider.callback();
  process.stdout.write(`${JSON.stringify({ event: 'ready', issuer, port })}\n`);

  // When started by a test process, exit once that process is gone (e.g. pytest was killed).
  const parentPid = Number(process.env.OIDC_PARENT_PID);
  if (Number.isInteger(parentPid) && parentPid > 1) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        process.exit(0);
      }
    }, 1000).unref();
  }

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err) => fail(err?.stack ?? String(err)));
