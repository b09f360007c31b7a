"""The LLM planner: an OpenAI-compatible model proposing through typed tools."""
