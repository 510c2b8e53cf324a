"""Pipeline stages: pure functions over DataFrames and files, one idea a module. None imports Prefect (the
render worker processes import the rendering code and never load it, ≈ 60 MB each): flows/prefect_tasks.py declares
the Prefect tasks over flows/stages.py's composite stages."""
