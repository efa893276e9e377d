"""DynamoDB: PynamoDB models and indexes, table naming, cursors, table creation."""
