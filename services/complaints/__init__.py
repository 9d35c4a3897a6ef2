"""The complaints service: disputes against recruiting agencies, from intake to award and
its enforcement. Domain only; the service is built on it next."""
