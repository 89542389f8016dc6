"""`python -m schema` prints the SDL the server serves: `make schema` writes it to
schema.graphql, the contract kept in the repository and diffed by the tests."""

from __future__ import annotations

from schema.app import schema

if __name__ == "__main__":
    print(schema.as_str())
