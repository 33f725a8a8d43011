"""The remote server: members and their keys, the built-in authorization server and its sign-in
page, and (assembled by the CLI) the Streamable HTTP app that serves them."""
