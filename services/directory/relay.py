"""python -m services.directory.relay: publishes the directory outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("directory")
