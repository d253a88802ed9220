"""`python -m appsplus`: the `appsplus` command line."""

from appsplus.cli.app import main

if __name__ == "__main__":
    main()
