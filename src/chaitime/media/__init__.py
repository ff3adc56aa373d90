"""Media: ffmpeg discovery and runs, probing, audio extraction, loudness, rendering."""
