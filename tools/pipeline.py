"""Run the whole DetNAS pipeline (see detnas_mm/pipeline/).

    python tools/pipeline.py [--work-dir DIR] [--det-data-root DIR]
        [--cls-data-root DIR] [--preset default|quick] [--seed 0]
"""
from detnas_mm.pipeline import main

if __name__ == '__main__':
    main()
