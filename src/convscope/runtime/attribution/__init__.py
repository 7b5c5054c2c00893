"""Which pixels a prediction used: six attribution methods (methods), their sanity check and
deletion measurement (checks), and sliding-patch occlusion maps (occlusion)."""
