"""The GraphQL API: Strawberry types and resolvers that translate to and from the domain."""
