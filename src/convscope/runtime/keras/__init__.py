"""convscope.runtime.keras"""
