from core.commands.evaluate_open_set import main

raise SystemExit(main())
