from humanvid.cli.main import main

main()
