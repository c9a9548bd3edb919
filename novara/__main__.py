"""`python -m novara …` is the `novara` command."""

from novara.cli import main

raise SystemExit(main())
