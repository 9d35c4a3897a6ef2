"""python -m services.documents.relay: publishes the documents outbox."""
from shared.relay import main

if __name__ == "__main__":
    main("documents")
