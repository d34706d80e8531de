from humanvid.cli import main

main()
