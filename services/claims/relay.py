"""python -m services.claims.relay: publishes the claims outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("claims")
