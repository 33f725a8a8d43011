"""The remote server (DESIGN §8): Streamable HTTP, members, the authorization server, gates."""
