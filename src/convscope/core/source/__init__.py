"""convscope.core.source"""
