"""Outputs people take away: area exports (CSV, XLSX, GeoJSON, GeoPackage), the 五必去 visit plan, and the CSV/XLSX writers."""
