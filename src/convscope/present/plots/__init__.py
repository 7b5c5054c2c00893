"""convscope.present.plots"""
