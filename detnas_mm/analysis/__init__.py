from .rank_stats import RankAgreement, rank_agreement

__all__ = ['RankAgreement', 'rank_agreement']
