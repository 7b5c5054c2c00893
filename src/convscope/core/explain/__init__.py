"""convscope.core.explain"""
