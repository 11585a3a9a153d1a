"""Money after the fact and before: the spend of a folder by model (`spending`), the per-user record of
runs (`user_runs`), estimates learned from them where no price is published (`learned`) and a class
budget (`classroom`). Reads the store; sends no request."""
