"""python -m services.complaints.relay: publishes the complaints outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("complaints")
