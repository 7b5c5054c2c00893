"""The explain table: its rows and types (table), the rules that fill them (rules, with the
sliding-window arithmetic in step and the grid-remapping layers in grid), and the
plain-language notes and the report's answers drawn from them (notes, answers)."""
