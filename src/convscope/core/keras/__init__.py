"""convscope.core.keras"""
