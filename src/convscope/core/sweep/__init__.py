"""convscope.core.sweep"""
