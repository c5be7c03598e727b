from fitvault.cli import main

main()
