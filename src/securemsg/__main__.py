from securemsg.cli.main import main

main()
