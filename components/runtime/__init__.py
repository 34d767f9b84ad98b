"""Code the library ships into the functions it builds or connects: the webhook receiver, the names
a component and its functions agree on (environment variables, attribute names), and the shared
Powertools setup. Imported in Lambda as ``components.runtime.<module>``; nothing here imports Pulumi."""
