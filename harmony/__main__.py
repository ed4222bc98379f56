from harmony.cli import main

main()
