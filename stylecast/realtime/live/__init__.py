"""The live loop and what it talks to: capture, window/virtual camera/recording sinks, the HTTP server, controls."""
