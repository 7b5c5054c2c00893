"""convscope.runtime.attribution"""
