"""Self-contained reports (HTML, inline SVG; no scripts, no CDN) rendered from services."""
