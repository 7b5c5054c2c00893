"""convscope.runtime.sweep"""
