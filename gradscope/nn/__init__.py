"""nn (placeholder)"""
