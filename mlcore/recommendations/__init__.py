"""Product recommendations: training the hybrid recommender, the stored top-N, similar products, the ranker."""
