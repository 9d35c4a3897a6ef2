"""The directory service: the public guide's data that no other service owns - recruiting
agencies and their licence status, destination countries and their missions' labour wings,
links to the official platforms, and a guide to every service (complaints, PKB loans, WEWB
membership, the papers of a legal migration). Admins keep each entry current (PUT with
If-Match); anyone reads it without signing in; every change is a `directory.<kind>.changed`
event through the outbox."""
