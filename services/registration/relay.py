"""python -m services.registration.relay: publishes the registration outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("registration")
