"""Plain, typed, framework-free business logic for the credit customer-service assistant."""
