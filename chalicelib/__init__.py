"""Everything that ships to Lambda besides app.py."""
