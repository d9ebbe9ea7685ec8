from keras_perceiver.cli.main import main

raise SystemExit(main())
