"""The portal's pages, one blueprint per audience: `public` (no sign-in), `me` (the person signed in)."""
