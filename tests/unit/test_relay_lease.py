"""The relay's lease: renewed on schedule, and given up (so publishing stops) as soon
as another relay holds it, or once the database could not confirm it before it ran out."""
import time

from pymongo.errors import AutoReconnect

from shared.lease import Lease


class LeaseTable:
    """Stands in for OutboxStore's lease methods (the relay's port to its lease)."""

    def __init__(self):
        self.holder = None
        self.down = False

    def acquire_lease(self, owner, seconds):
        if self.down:
            raise AutoReconnect("database unreachable")
        if self.holder in (None, owner):
            self.holder = owner
            return True
        return False

    def release_lease(self, owner):
        if self.holder == owner:
            self.holder = None


def test_a_lease_taken_over_by_another_relay_is_lost_at_the_next_renewal():
    table = LeaseTable()
    lease = Lease(table, "relay-a", seconds=30)
    assert lease.hold() and lease.held
    table.holder = "relay-b"  # its lease ran out (say, the database was away) and b took it
    assert not lease.renew() and not lease.held
    assert not lease.hold()  # and it publishes nothing until it holds it again


def test_a_database_error_keeps_the_lease_only_until_it_runs_out():
    table = LeaseTable()
    lease = Lease(table, "relay-a", seconds=0.3)
    assert lease.hold()
    table.down = True
    assert lease.renew()  # not lost yet: nobody else can have it before it runs out
    time.sleep(0.35)
    assert not lease.renew() and not lease.held


def test_release_lets_another_relay_take_it():
    table = LeaseTable()
    lease = Lease(table, "relay-a", seconds=30)
    lease.hold()
    lease.release()
    assert not lease.held and Lease(table, "relay-b", seconds=30).hold()
