from core.commands.evaluate import main

raise SystemExit(main())
