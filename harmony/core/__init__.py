"""Site-wide pages: home, health check, robots, and the navigation shared by every page."""
