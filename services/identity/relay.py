"""python -m services.identity.relay: publishes the identity outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("identity")
