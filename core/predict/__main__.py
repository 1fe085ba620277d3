from core.commands.predict import main

raise SystemExit(main())
