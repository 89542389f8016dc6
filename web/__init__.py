"""What the server answers besides GraphQL's own handling: the routes beside /graphql (the
import template and error report, the invitation page), the gate in front of uploads, and
what the WebSocket adds to Strawberry's. server.py wires them in."""
