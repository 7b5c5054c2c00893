"""convscope.runtime.nn"""
