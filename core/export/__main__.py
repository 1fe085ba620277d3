from core.commands.export import main

raise SystemExit(main())
